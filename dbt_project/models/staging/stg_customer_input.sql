{{ config(
    materialized='table',
    enabled=feature_spec().input_kind == 'customers',
    pre_hook="{{ stage_input_file(var('input_path', none)) }}",
) }}

{#- Every input row exactly once, typed and checked; a table, so row numbers are fixed once per
    build. The input is the demo seed, var input_path (CSV/Parquet) or var input_relation; its
    columns follow the feature set (macro feature_spec). A CSV is read once by the pre-hook,
    which also keeps the lines DuckDB could not parse: they are rows here too, rejected with
    DuckDB's reason. -#}
{{ customer_rows(customer_input(var('input_path', none), var('input_relation', none))) }}
