"""Deleting what is kept only for a while (delivery histories, old notifications)."""

from django.db import transaction


def delete_in_batches(rows, batch: int) -> int:
    """Delete every row of the queryset `rows`, oldest first (`created_at`, then `id`), `batch`
    rows per transaction, so that a first run over a long backlog never holds a write lock for
    long (SQLite has one for the whole database). Each batch deletes through `rows` again, so a
    row that no longer matches since it was read (retried, say) is kept. Returns how many went."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("created_at", "id").values_list("pk", flat=True)[:batch])
            if ids:
                total += rows.filter(pk__in=ids).delete()[0]
        if len(ids) < batch:
            return total
