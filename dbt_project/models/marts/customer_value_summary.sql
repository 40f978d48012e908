{#- CLV and minutes by region, channel, segment and their combinations in one tidy table
    (grouping sets). grouping_level names the combination; columns not in it are null. -#}

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

grouped as (

    select
        region_code,
        region_name,
        channel_code,
        channel_name,
        segment_id,
        segment_name,
        grouping(region_code) as is_all_regions,
        grouping(channel_code) as is_all_channels,
        grouping(segment_id) as is_all_segments,
        count(*) as count_customers,
        sum(customer_lifetime_value) as total_customer_lifetime_value,
        avg(customer_lifetime_value) as avg_customer_lifetime_value,
        median(customer_lifetime_value) as median_customer_lifetime_value,
        sum(minutes_watched) as total_minutes_watched,
        avg(minutes_watched) as avg_minutes_watched,
        median(minutes_watched) as median_minutes_watched
    from customer_segments
    group by grouping sets (
        (),
        (region_code, region_name),
        (channel_code, channel_name),
        (segment_id, segment_name),
        (region_code, region_name, channel_code, channel_name),
        (segment_id, segment_name, region_code, region_name),
        (segment_id, segment_name, channel_code, channel_name)
    )

),

overall as (

    select
        count_customers as all_customers,
        total_customer_lifetime_value as all_customer_lifetime_value
    from grouped
    where is_all_regions = 1 and is_all_channels = 1 and is_all_segments = 1

),

final as (

    select
        case
            when grouped.is_all_segments = 0 and grouped.is_all_regions = 0 then 'segment_region'
            when grouped.is_all_segments = 0 and grouped.is_all_channels = 0
                then 'segment_channel'
            when grouped.is_all_segments = 0 then 'segment'
            when grouped.is_all_regions = 0 and grouped.is_all_channels = 0
                then 'region_channel'
            when grouped.is_all_regions = 0 then 'region'
            when grouped.is_all_channels = 0 then 'channel'
            else 'overall'
        end as grouping_level,
        grouped.region_code,
        grouped.region_name,
        grouped.channel_code,
        grouped.channel_name,
        grouped.segment_id,
        grouped.segment_name,
        grouped.count_customers,
        grouped.count_customers / overall.all_customers as share_of_customers,
        grouped.total_customer_lifetime_value,
        grouped.total_customer_lifetime_value / nullif(overall.all_customer_lifetime_value, 0)
            as share_of_customer_lifetime_value,
        grouped.avg_customer_lifetime_value,
        grouped.median_customer_lifetime_value,
        grouped.total_minutes_watched,
        grouped.avg_minutes_watched,
        grouped.median_minutes_watched
    from grouped
    cross join overall

)

select * from final
