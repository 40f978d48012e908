with

source as (

    select * from {{ ref('ml_category_associations') }}

),

final as (

    select
        row_feature,
        col_feature,
        test_name,
        statistic,
        dof,
        p_value,
        cramers_v,
        cramers_v_corrected,
        magnitude,
        count_rows,
        count_missing_rows,
        count_cells,
        count_low_expected_cells,
        min_expected,
        is_yates_corrected,
        reason
    from source

)

select * from final
