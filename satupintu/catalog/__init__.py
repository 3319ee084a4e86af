"""The service catalogue of the mall: the site (*Mal Pelayanan Publik*), its agencies (tenants,
*instansi*) with their counters (*gerai/loket*), and every service (*layanan*) with its published
*standar pelayanan* (the 14 components of UU 25/2009 / PermenPANRB 15/2014).

This app owns services and their versions, requirements, eligibility rules and catalogue search.
"""
