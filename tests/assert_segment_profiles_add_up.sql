-- Profiles partition the customers: sizes add up to the segmented rows, shares (of customers
-- and of every summable measure) to 1.
{%- set summable = report_measures() | selectattr('summable') | list %}
with

totals as (

    select
        {%- for item in summable %}
        sum(share_of_{{ item.name }}) as share_of_{{ item.name }},
        {%- endfor %}
        sum(count_customers) as count_customers,
        sum(share_of_customers) as share_of_customers
    from {{ ref('segment_profiles') }}

)

select *
from totals
where
    count_customers != (select count(*) from {{ ref('customer_segments') }})
    or abs(share_of_customers - 1) > 1e-9
    {%- for item in summable %}
    or abs(share_of_{{ item.name }} - 1) > 1e-9
    {%- endfor %}
