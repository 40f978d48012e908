-- The customers fall into exactly the chosen k segments, each with a profile.
with

chosen as (

    select k
    from {{ ref('ml_k_diagnostics') }}
    where is_chosen

),

observed as (

    select
        (select count(distinct segment_id) from {{ ref('customer_segments') }})
            as count_segments_with_customers,
        (select count(*) from {{ ref('segment_profiles') }}) as count_profiles,
        (select count(*) from chosen) as count_chosen_rows,
        (select max(k) from chosen) as chosen_k

)

select *
from observed
where
    count_chosen_rows != 1
    or count_segments_with_customers != chosen_k
    or count_profiles != chosen_k
