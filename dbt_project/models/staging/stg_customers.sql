{#- One usable row per customer with the feature set's measures and categorical codes: the
    accepted customer rows, or, for transaction input, the accepted purchases aggregated per
    customer (macro customers_from_transactions). Before anything is fitted, the build stops
    here when too many input rows were rejected (macro check_rejected_share). -#}
{%- set spec = feature_spec() -%}
{%- if spec.input_kind == 'transactions' -%}
{{ check_rejected_share(ref('stg_transaction_input'), 'rejected_transaction_rows') }}
{%- else -%}
{{ check_rejected_share(ref('stg_customer_input'), 'rejected_customer_rows') }}
{%- endif %}

{% if spec.input_kind == 'transactions' -%}
{{ customers_from_transactions(ref('stg_transaction_input')) }}
{%- else -%}
with

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

select * from final
{%- endif %}
