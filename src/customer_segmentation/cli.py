"""Command line: ``customer-segmentation build | spark | convert | summary | publish``.

- ``build``: ``dbt build`` with the given arguments, ending with one line per failure
  (see :mod:`customer_segmentation.build`).
- ``spark``: any dbt command on Apache Spark (``--target spark``) with the Python models in
  dbt's SparkSession; ``--master`` / ``--conf`` first, then dbt's arguments
  (see :mod:`customer_segmentation.spark.runner`).
- ``convert``: an Excel sheet to a Parquet file that ``input_path`` can name.

- ``summary``: one line per segment (id, name, customers, the main measures' means, action).
- ``publish``: copy the published marts into a new serving snapshot (DuckDB file + Parquet) and
  swap it in as the read-only serving file for BI tools (see :mod:`customer_segmentation.publish`).
"""

from __future__ import annotations

import argparse
import os
import sys

import duckdb

DEFAULT_DATABASE = "customer_segmentation.duckdb"


def database_path(path: str | None = None) -> str:
    """The DuckDB file dbt builds: the argument, else $CUSTOMER_SEGMENTATION_DB, else the
    default in the working directory (the repository root when run by make)."""
    return path or os.environ.get("CUSTOMER_SEGMENTATION_DB") or DEFAULT_DATABASE


#: Measures shown by ``summary``: the first ones in report order (summable first).
SUMMARY_MEASURES = 2


def segment_summary(path: str) -> tuple[list[str], list[tuple]]:
    """Column labels and one row per segment: id, name, customers, the mean of the first
    :data:`SUMMARY_MEASURES` measures of the feature set (summable ones such as CLV first),
    and the recommended action (the part before its colon)."""
    with duckdb.connect(path, read_only=True) as con:
        measures = con.execute(
            """
            select feature_name, feature_label from marts.feature_definitions
            where feature_kind = 'numeric'
            order by is_summable desc, feature_position
            """
        ).fetchall()[:SUMMARY_MEASURES]
        averages = "".join(f", avg_{name}" for name, _ in measures)
        rows = con.execute(
            f"""
            select segment_id, segment_name, count_customers{averages},
                split_part(recommended_action, ':', 1)
            from marts.segment_profiles
            order by segment_id
            """
        ).fetchall()
    return [f"mean {label}" for _, label in measures], rows


def format_summary(measure_labels: list[str], rows: list[tuple]) -> str:
    width = max([len("segment name"), *(len(row[1]) for row in rows)])
    widths = [max(len(label), 10) for label in measure_labels]
    header = f"{'id':>3}  {'segment name':<{width}}  {'customers':>9}"
    header += "".join(f"  {label:>{w}}" for label, w in zip(measure_labels, widths, strict=True))
    lines = [header + "  action"]
    for segment_id, name, customers, *values, action in rows:
        line = f"{segment_id:>3}  {name:<{width}}  {customers:>9,}"
        line += "".join(f"  {value:>{w},.2f}" for value, w in zip(values, widths, strict=True))
        lines.append(f"{line}  {action}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customer-segmentation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="dbt build [dbt arguments], one line per failure")
    commands.add_parser(
        "spark",
        help="[--master URL] [--conf KEY=VALUE] <dbt command> [dbt arguments] on Spark",
    )
    convert = commands.add_parser("convert", help="an Excel sheet to Parquet for input_path")
    convert.add_argument("workbook")
    convert.add_argument("--sheet", default="0", help="sheet name or 0-based index (default 0)")
    convert.add_argument("--out", help="Parquet file (default: beside the workbook)")
    summary = commands.add_parser("summary", help="print one line per segment")
    summary.add_argument(
        "--database",
        help=f"DuckDB file (default ${{CUSTOMER_SEGMENTATION_DB}} or {DEFAULT_DATABASE})",
    )
    publish = commands.add_parser("publish", help="publish the marts to serving/ for readers")
    publish.add_argument("--database", help="DuckDB file dbt built")
    publish.add_argument("--serving-dir", default="serving", help="default: serving")
    publish.add_argument(
        "--keep", type=int, default=3, help="snapshots always kept, newest first (default 3, min 2)"
    )
    publish.add_argument(
        "--keep-hours",
        type=float,
        default=24.0,
        help="also keep snapshots replaced less than this many hours ago (default 24)",
    )
    publish.add_argument("--manifest", help="dbt manifest.json (default target/ by the database)")
    return parser


def _convert(args: argparse.Namespace) -> int:
    from customer_segmentation.convert import convert as convert_workbook

    sheet = int(args.sheet) if args.sheet.isdigit() else args.sheet
    try:
        written = convert_workbook(args.workbook, args.out, sheet)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {written}; build with --vars '{{input_path: {written}}}'")
    return 0


def _summary(args: argparse.Namespace) -> int:
    path = database_path(args.database)
    if not os.path.exists(path):
        print(f"{path}: no such database; run `make demo` (or dbt build) first", file=sys.stderr)
        return 2
    print(format_summary(*segment_summary(path)))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from customer_segmentation.publish import PublishError
    from customer_segmentation.publish import publish as publish_marts

    try:
        result = publish_marts(
            database_path(args.database),
            args.serving_dir,
            keep=args.keep,
            keep_hours=args.keep_hours,
            manifest=args.manifest,
        )
    except PublishError as error:
        print(error, file=sys.stderr)
        return 2
    print(
        f"published run {result.run_id}: {result.serving_file} "
        f"({len(result.rows)} tables, {result.rows['customer_segments']:,} customers, "
        f"serving file {result.serving_bytes / 1e6:.2f} MB, "
        f"Parquet {result.parquet_bytes / 1e6:.2f} MB, {result.seconds:.2f} s; "
        f"snapshot {result.snapshot}, {len(result.pruned)} old snapshots pruned)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["build"]:  # every other argument goes to dbt build as it is
        from customer_segmentation.build import main as build_main

        return build_main(argv[1:])
    if argv[:1] == ["spark"]:  # runner options, then a dbt command and its arguments
        from customer_segmentation.spark.runner import main as spark_main

        return spark_main(argv[1:])
    args = _parser().parse_args(argv)
    return {"convert": _convert, "summary": _summary, "publish": _publish}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
