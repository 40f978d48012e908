{{ config(enabled=feature_spec().input_kind == 'transactions') }}

{#- Purchase rows that cannot be used, with every reason and the raw text of each column. -#}

with

transaction_input as (

    select * from {{ ref('stg_transaction_input') }}

),

final as (

    select
        source_row_number,
        source_line,
        input_source,
        {%- for column in transaction_input_columns() %}
        {{ column.canonical }}_raw,
        {%- endfor %}
        raw_line,
        rejection_reason
    from transaction_input
    where rejection_reason is not null

)

select * from final
