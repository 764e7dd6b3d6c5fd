"""Opens threadmill's Arrow IPC (.arrow file, .arrows stream) and Parquet outputs in pyarrow and polars.

    python3 bench/check-readers.py OUT.parquet OUT.arrow OUT.arrows ...

pyarrow reads each file and validates it fully (offsets, null bitmaps, dictionary keys); polars
reads it on its own (its IPC and Parquet readers are not pyarrow's) and must give the same rows and
values as pyarrow. One JSON line per file on stdout; exit 1 if any file fails, 2 if a library is
missing. bench/fastq.ts runs it where Python has both libraries.
"""
import json
import sys

try:
    import polars as pl
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq
except ImportError as e:
    print(json.dumps({"error": f"missing Python library: {e.name}"}))
    sys.exit(2)


def read_pyarrow(path: str) -> pa.Table:
    if path.endswith(".parquet"):
        return pq.read_table(path)
    with pa.memory_map(path) as src:
        reader = ipc.open_stream(src) if path.endswith(".arrows") else ipc.open_file(src)
        return reader.read_all()


def read_polars(path: str) -> pl.DataFrame:
    if path.endswith(".parquet"):
        return pl.read_parquet(path)
    if path.endswith(".arrows"):
        return pl.read_ipc_stream(path)
    return pl.read_ipc(path, memory_map=False)


def check(path: str) -> dict:
    table = read_pyarrow(path)
    table.validate(full=True)
    df = read_polars(path)
    if df.height != table.num_rows:
        return {"file": path, "ok": False, "why": f"polars {df.height} rows, pyarrow {table.num_rows}"}
    if not df.equals(pl.from_arrow(table)):
        return {"file": path, "ok": False, "why": "polars and pyarrow values differ"}
    return {"file": path, "ok": True, "rows": table.num_rows, "columns": table.column_names}


def main() -> int:
    failed = 0
    for path in sys.argv[1:]:
        try:
            result = check(path)
        except Exception as e:  # a reader's refusal is the finding, reported per file
            result = {"file": path, "ok": False, "why": f"{type(e).__name__}: {e}"}
        failed += not result["ok"]
        print(json.dumps(result))
    print(json.dumps({"pyarrow": pa.__version__, "polars": pl.__version__, "files": len(sys.argv) - 1, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
