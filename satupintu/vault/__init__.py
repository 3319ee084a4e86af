"""The citizen's document vault (*berkas*): documents a person uploads once and reuses in later
applications (the start of the once-only principle). The app owns the files, their checks by
content, and who may open them; every officer's view is written to the audit log."""
