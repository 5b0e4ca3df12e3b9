"""Files to import, generated."""


def interactions_csv(rows: int, *, items: int = 10, event_ids: bool = False) -> str:
    """A CSV of `rows` interactions over items sku-0 … sku-<items-1> and 50 users."""
    header = "user,item,type,value,timestamp" + (",event_id" if event_ids else "")
    lines = [header]
    for n in range(rows):
        line = f"u-{n % 50},sku-{n % items},view,1,2026-01-01T00:00:{n % 60:02d}Z"
        lines.append(line + (f",e-{n}" if event_ids else ""))
    return "\n".join(lines) + "\n"
