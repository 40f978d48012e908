{#- Names and recommended actions of the current fit's segments: an override from the seeds
    segment_name_overrides / segment_action_overrides wins over the rule-based value. -#}

with

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

name_overrides as (

    select * from {{ ref('segment_name_overrides') }}

),

action_overrides as (

    select * from {{ ref('segment_action_overrides') }}

),

segments as (

    select distinct
        segment_id,
        segment_name as rule_based_name,
        recommended_action as rule_based_action,
        action_reason
    from kmeans_fit

),

final as (

    select
        segments.segment_id,
        coalesce(name_overrides.segment_name, segments.rule_based_name) as segment_name,
        segments.rule_based_name,
        name_overrides.segment_name is not null as is_name_overridden,
        coalesce(action_overrides.recommended_action, segments.rule_based_action)
            as recommended_action,
        segments.rule_based_action,
        case
            when action_overrides.recommended_action is not null
                then 'set in seed segment_action_overrides'
            else segments.action_reason
        end as action_reason,
        action_overrides.recommended_action is not null as is_action_overridden
    from segments
    left join name_overrides
        on segments.segment_id = name_overrides.segment_id
    left join action_overrides
        on segments.segment_id = action_overrides.segment_id

)

select * from final
