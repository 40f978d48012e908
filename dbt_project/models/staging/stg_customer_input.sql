{{ config(materialized='table') }}

{#- Every input row exactly once, typed and checked; a table, so row numbers are fixed once per
    build. The input is the demo seed, var input_path (CSV/Parquet) or var input_relation. -#}
{{ customer_rows(customer_input(var('input_path', none), var('input_relation', none))) }}
