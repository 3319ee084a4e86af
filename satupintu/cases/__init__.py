"""Applications (*permohonan*) and their interagency workflow: one request for one service,
filed online or at a counter, processed stage by stage by one or several agencies within a
deadline counted in working days (*hari kerja*), and followed by a tracking number."""
