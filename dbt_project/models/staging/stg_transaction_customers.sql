{{ config(enabled=feature_spec().input_kind == 'transactions') }}

{#- One row per customer from the accepted purchases (input_kind transactions, preset rfm):
    recency_days (days from the customer's last purchase to var reference_date, default the
    latest purchase date in the data; or the smallest mapped recency_days), frequency
    (purchases), monetary (sum of amount), mean_unit_cost (mean of amount / quantity), both
    summed exactly (exact_sum: the row order of a parallel scan must not move last bits), and
    source_row_number (the customer's first purchase row). stg_customers reads it. -#}
{%- set mapped = transaction_input_columns() | map(attribute='canonical') | list -%}
{%- set has_date = 'purchase_date' in mapped -%}
{%- set reference_date = checked_reference_date() %}

with

transaction_input as (

    select * from {{ ref('stg_transaction_input') }}

),

accepted_purchases as (

    select * from transaction_input
    where rejection_reason is null

),

{% if has_date -%}
reference as (

    {%- if reference_date %}
    select cast('{{ reference_date }}' as date) as reference_date
    {%- else %}
    select max(purchase_date) as reference_date
    from accepted_purchases
    {%- endif %}

),

{% endif -%}

per_customer as (

    select
        customer_id,
        min(source_row_number) as source_row_number,
        {%- if has_date %}
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        {%- else %}
        min(recency_days) as recency_days,
        {%- endif %}
        count(*) as frequency,
        {{ exact_sum("amount") }} as monetary,
        {{ exact_avg("unit_cost") }} as mean_unit_cost
    from accepted_purchases
    group by customer_id

),

final as (

    select
        per_customer.customer_id,
        per_customer.source_row_number,
        {%- if has_date %}
        cast(
            {{ dbt.datediff('per_customer.last_purchase_date', 'reference.reference_date', 'day') }}
            as double
        ) as recency_days,
        {%- else %}
        per_customer.recency_days,
        {%- endif %}
        cast(per_customer.frequency as double) as frequency,
        per_customer.monetary,
        per_customer.mean_unit_cost
    from per_customer
    {% if has_date -%}
    cross join reference
    {%- endif %}

)

select * from final
