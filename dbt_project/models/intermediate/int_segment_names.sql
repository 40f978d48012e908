with

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

name_overrides as (

    select * from {{ ref('segment_name_overrides') }}

),

segments as (

    select distinct
        segment_id,
        segment_name as rule_based_name
    from kmeans_fit

),

final as (

    select
        segments.segment_id,
        coalesce(name_overrides.segment_name, segments.rule_based_name) as segment_name,
        segments.rule_based_name,
        name_overrides.segment_name is not null as is_name_overridden
    from segments
    left join name_overrides
        on segments.segment_id = name_overrides.segment_id

)

select * from final
