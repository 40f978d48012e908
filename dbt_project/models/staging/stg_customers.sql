{#- One usable row per customer with the feature set's measures and categorical codes: the
    accepted customer rows, or, for transaction input, the accepted purchases aggregated per
    customer (stg_transaction_customers). Before anything is fitted, the build stops here
    when too many input rows were rejected (macro check_rejected_share). -#}
{%- set transactions = feature_spec().input_kind == 'transactions' -%}
{%- if transactions -%}
{{ check_rejected_share(ref('stg_transaction_input'), 'rejected_transaction_rows') }}
{%- else -%}
{{ check_rejected_share(ref('stg_customer_input'), 'rejected_customer_rows') }}
{%- endif %}

with

{% if transactions -%}
transaction_customers as (

    select * from {{ ref('stg_transaction_customers') }}

),

final as (

    select
        customer_id,
        source_row_number,
        recency_days,
        frequency,
        monetary,
        mean_unit_cost
    from transaction_customers

)
{%- else -%}
customer_input as (

    select * from {{ ref('stg_customer_input') }}

),

final as (

    select
        customer_id,
        {%- for column in customer_columns() %}
        {{ column }},
        {%- endfor %}
        source_row_number
    from customer_input
    where rejection_reason is null

)
{%- endif %}

select * from final
