-- Nothing is silently dropped: rows in = rows used + rows rejected, and no row is both. For
-- customer input a used row is a segmented customer; for transaction input it is a purchase
-- counted in its customer's frequency, and every customer with one is segmented.
{%- set transactions = feature_spec().input_kind == 'transactions' %}
{%- set input_rows = 'stg_transaction_input' if transactions else 'stg_customer_input' %}
{%- set rejected_rows = 'rejected_transaction_rows' if transactions else 'rejected_customer_rows' %}
with

input_rows as (

    select * from {{ ref(input_rows) }}

),

rejected_rows as (

    select * from {{ ref(rejected_rows) }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

used_rows as (

    {% if transactions -%}
    select input_rows.source_row_number
    from input_rows
    inner join customer_segments
        on input_rows.customer_id = customer_segments.customer_id
    where input_rows.rejection_reason is null
    {%- else -%}
    select customer_segments.source_row_number
    from customer_segments
    {%- endif %}

),

counts as (

    select
        (select count(*) from input_rows) as count_input_rows,
        (select count(*) from used_rows) as count_used,
        (select count(*) from rejected_rows) as count_rejected,
        (
            select count(*)
            from used_rows
            inner join rejected_rows
                on used_rows.source_row_number = rejected_rows.source_row_number
        ) as count_both

)

select *
from counts
where count_input_rows != count_used + count_rejected or count_both > 0
