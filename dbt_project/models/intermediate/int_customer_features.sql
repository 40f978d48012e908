{#- Model-ready features per customer, generated from the feature set (macro feature_spec):
    measures as the fit uses them, categorical codes, one-hot columns from the lookup seeds.
    Every fit reads this model, so the build stops here, before any fit, when the customers
    cannot give k segments (macro check_fit_rows). -#}
{{ check_fit_rows(ref('stg_customers')) }}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

final as (

    select {{ feature_columns() }}
    from customers

)

select * from final
