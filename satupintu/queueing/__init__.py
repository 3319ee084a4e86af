"""The service-mall queue (*antrian*): numbered tickets per service group, the calling order
(due bookings, then priority groups such as *lansia* and *disabilitas*, then arrival), and the
counters (*loket*) that call, recall, serve, mark no-shows and transfer visitors.

This app owns tickets, day sequences, counter sessions and the ordering function.
"""
