{#- The feature set of the current build, one row per fit feature (see int_feature_definitions):
    what a BI user needs to read segment_centroids and to know which measures the marts carry. -#}

with

feature_definitions as (

    select * from {{ ref('int_feature_definitions') }}

),

final as (

    select
        feature_position,
        feature_name,
        feature_kind,
        source_feature,
        source_column,
        feature_label,
        feature_transform,
        missing_policy,
        is_summable,
        feature_role,
        category_code,
        category_key,
        feature_set
    from feature_definitions

)

select * from final
