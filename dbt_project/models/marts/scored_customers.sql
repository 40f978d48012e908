{#- Customers scored in SQL against the stored scaler and centroids (no Python, no refit).
    By default the fitted customers themselves (a test checks SQL = Python for every one); with
    var score_input_path, a new CSV/Parquet file: dbt build --select stg_scoring_input+ -#}

with

scoring_input as (

    select * from {{ ref('stg_scoring_input') }}

),

scores as (

    select * from {{ ref('int_customer_scores') }}

),

segment_names as (

    select * from {{ ref('int_segment_names') }}

),

final as (

    select
        scoring_input.source_row_number,
        scoring_input.input_source,
        scoring_input.customer_id,
        scores.segment_id,
        segment_names.segment_name,
        scores.distance_to_centroid,
        scores.second_segment_id,
        scores.assignment_margin,
        {%- for rank in range(1, top_feature_count() + 1) %}
        scores.top_feature_{{ rank }},
        scores.top_feature_{{ rank }}_contribution,
        {%- endfor %}
        scoring_input.rejection_reason
    from scoring_input
    left join scores
        on
            scoring_input.customer_id = scores.customer_id
            and scoring_input.rejection_reason is null
    left join segment_names
        on scores.segment_id = segment_names.segment_id

)

select * from final
