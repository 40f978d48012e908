{{ config(
    materialized='table',
    enabled=feature_spec().input_kind == 'transactions',
    pre_hook="{{ stage_input_file(var('input_path', none)) }}",
) }}

{#- Every purchase row exactly once, typed and checked (macro transaction_rows), for feature
    sets with input_kind transactions (preset rfm). Source columns are mapped by var
    transaction_columns; the input is the demo seed, var input_path or var input_relation. -#}
{{ transaction_rows(customer_input(
    var('input_path', none), var('input_relation', none), wanted=transaction_input_columns()
)) }}
