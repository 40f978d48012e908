-- SQL scoring from the stored scaler and centroids gives every fitted customer the segment, the
-- distance and the top features of the margin (names and contributions) the Python assignment
-- gave (runs when scored_customers holds the fit input, the default). Checked on the customers
-- stg_scoring_input holds: all of them up to var scoring_check_rows, every m-th line above.
{{ config(enabled=var('score_input_path', none) is none) }}

with

checked_customers as (

    select customer_id from {{ ref('stg_scoring_input') }}
    where rejection_reason is null

),

python_assignment as (

    select * from {{ ref('customer_segments') }}
    where customer_id in (select checked_customers.customer_id from checked_customers)

),

sql_scoring as (

    select *
    from {{ ref('scored_customers') }}
    where rejection_reason is null

),

compared as (

    select
        python_assignment.customer_id,
        python_assignment.segment_id as python_segment_id,
        sql_scoring.segment_id as sql_segment_id,
        python_assignment.distance_to_centroid as python_distance,
        {%- for rank in range(1, top_feature_count() + 1) %}
        python_assignment.top_feature_{{ rank }} as python_feature_{{ rank }},
        sql_scoring.top_feature_{{ rank }} as sql_feature_{{ rank }},
        python_assignment.top_feature_{{ rank }}_contribution as python_contribution_{{ rank }},
        sql_scoring.top_feature_{{ rank }}_contribution as sql_contribution_{{ rank }},
        {%- endfor %}
        sql_scoring.distance_to_centroid as sql_distance
    from python_assignment
    full outer join sql_scoring
        on python_assignment.customer_id = sql_scoring.customer_id

)

select *
from compared
where
    python_segment_id is distinct from sql_segment_id
    or abs(python_distance - sql_distance) > 1e-9
    {%- for rank in range(1, top_feature_count() + 1) %}
    or python_feature_{{ rank }} is distinct from sql_feature_{{ rank }}
    or (python_contribution_{{ rank }} is null) != (sql_contribution_{{ rank }} is null)
    or abs(python_contribution_{{ rank }} - sql_contribution_{{ rank }}) > 1e-9
    {%- endfor %}
