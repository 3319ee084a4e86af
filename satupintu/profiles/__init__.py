"""Reference deployments as data (*profil*): a folder of TOML files per deployment, e.g. the
MPP Kota Pekanbaru with its 26 tenants and 173 services.

This app owns the profile format and `manage.py load_profile`, which writes through the
catalogue's and identity's service functions only.
"""
