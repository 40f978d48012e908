-- Profiles partition the customers: sizes add up to the segmented rows, shares to 1.
with

totals as (

    select
        sum(count_customers) as count_customers,
        sum(share_of_customers) as share_of_customers,
        sum(share_of_customer_lifetime_value) as share_of_customer_lifetime_value
    from {{ ref('segment_profiles') }}

)

select *
from totals
where
    count_customers != (select count(*) from {{ ref('customer_segments') }})
    or abs(share_of_customers - 1) > 1e-9
    or abs(share_of_customer_lifetime_value - 1) > 1e-9
