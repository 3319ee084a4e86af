"""What a file really is, read from its first bytes (never from its name or the browser's word)."""

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
ACCEPTED = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None
