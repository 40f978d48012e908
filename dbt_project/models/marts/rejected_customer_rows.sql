{{ config(enabled=feature_spec().input_kind == 'customers') }}

{#- Customer input rows that cannot be segmented, with every reason and the raw text of each
    input column the feature set reads. -#}

with

customer_input as (

    select * from {{ ref('stg_customer_input') }}

),

final as (

    select
        source_row_number,
        source_line,
        input_source,
        rejection_reason,
        {%- for column in input_columns() if column.key != 'customer_id' %}
        {{ column.key }}_raw,
        {%- endfor %}
        customer_id_raw,
        raw_line
    from customer_input
    where rejection_reason is not null

)

select * from final
