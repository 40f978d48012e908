-- Segment profiles side by side: size, value and viewing per segment, each also as an index
-- against all customers, with where the segment comes from.
-- Run: dbt show --select segment_profiles_side_by_side
-- A case-study analysis: enabled only when the feature set has CLV, minutes, region and channel.
{{ config(enabled=feature_set_has(
    ['customer_lifetime_value', 'minutes_watched', 'region', 'channel']
)) }}

with

profiles as (

    select * from {{ ref('segment_profiles') }}

),

overall as (

    select
        avg_customer_lifetime_value as avg_clv,
        avg_minutes_watched as avg_minutes
    from {{ ref('customer_value_summary') }}
    where grouping_level = 'overall'

),

final as (

    select
        profiles.segment_id,
        profiles.segment_name,
        profiles.count_customers,
        round(profiles.share_of_customers, 4) as share_of_customers,
        round(profiles.share_of_customer_lifetime_value, 4) as share_of_clv,
        round(profiles.avg_customer_lifetime_value, 2) as avg_clv,
        round(profiles.median_customer_lifetime_value, 2) as median_clv,
        round(profiles.avg_customer_lifetime_value / overall.avg_clv, 2) as clv_index,
        round(profiles.avg_minutes_watched, 0) as avg_minutes,
        round(profiles.median_minutes_watched, 0) as median_minutes,
        round(profiles.avg_minutes_watched / nullif(overall.avg_minutes, 0), 2) as minutes_index,
        profiles.dominant_region_name,
        round(profiles.share_in_dominant_region, 2) as share_in_dominant_region,
        profiles.dominant_channel_name,
        round(profiles.share_in_dominant_channel, 2) as share_in_dominant_channel
    from profiles
    cross join overall

)

select * from final
order by segment_id
