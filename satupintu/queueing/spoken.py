"""What the hall's speakers say when a ticket is called, in Bahasa Indonesia."""

DIGITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def spell(text: str) -> str:
    """'A023' → 'A nol dua tiga': letters as letters, digits one by one, as MPP displays call them."""
    return " ".join(DIGITS[int(c)] if c.isdigit() else c.upper() for c in text if c.isalnum())


def call_text(ticket_display: str, counter_code: str) -> str:
    return f"Nomor antrian {spell(ticket_display)}, silakan menuju loket {spell(counter_code)}"
