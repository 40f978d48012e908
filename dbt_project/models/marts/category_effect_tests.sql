with

source as (

    select * from {{ ref('ml_category_effects') }}

),

final as (

    select
        categorical_feature,
        numeric_feature,
        test_name,
        statistic,
        dof,
        p_value,
        effect_size,
        effect_size_name,
        eta_squared_h,
        magnitude,
        count_groups,
        count_rows,
        count_missing_rows,
        highest_mean_rank_group,
        lowest_mean_rank_group,
        reason
    from source

)

select * from final
