{{ config(materialized='table', enabled=feature_spec().input_kind == 'customers') }}

{#- Every input row exactly once, typed and checked; a table, so row numbers are fixed once per
    build. The input is the demo seed, var input_path (CSV/Parquet) or var input_relation; its
    columns follow the feature set (macro feature_spec). -#}
{{ customer_rows(customer_input(var('input_path', none), var('input_relation', none))) }}
