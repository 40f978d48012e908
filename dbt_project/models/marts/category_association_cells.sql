with

source as (

    select * from {{ ref('ml_category_association_cells') }}

),

final as (

    select
        row_feature,
        row_value,
        col_feature,
        col_value,
        observed,
        expected,
        pearson_residual,
        adjusted_residual,
        is_low_expected
    from source

)

select * from final
