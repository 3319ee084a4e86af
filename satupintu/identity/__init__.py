"""Identity: citizens (*warga*, identified by NIK and optionally KK), officers (*petugas*) of an
agency with a role, and the mall administrator (*pengelola MPP*).

This app owns accounts, NIK/KK validation against Kemendagri region codes, and API tokens.
"""
