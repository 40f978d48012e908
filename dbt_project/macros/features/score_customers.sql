{#-
    score_customers(features, scaler, centroids)

    Assigns customers to the stored segments in plain SQL, with no Python and no refit:
    standardise every feature with the stored scaler, then take the nearest and second-nearest
    stored centroid (Euclidean, z units; ties go to the lower segment id, as in Python).

    Arguments
      features   relation with customer_id and one column per scaler feature (original units)
      scaler     ml_feature_scaler: feature_name, mean, scale
      centroids  ml_kmeans_fit: segment_id, feature_name, centroid_z

    Returns one row per customer: customer_id, segment_id, distance_to_centroid,
    second_segment_id, distance_to_second_centroid, assignment_margin.

    The feature list is read from the scaler table when the model runs; the numbers are joined
    from the tables, never baked into the SQL. Cost is O(rows × k × features), one pass.
-#}
{% macro score_customers(features, scaler, centroids) %}
{%- set feature_names = [] -%}
{%- for row in lookup_rows(scaler, 'feature_position') -%}
    {%- do feature_names.append(row.feature_name) -%}
{%- endfor -%}

with

features as (

    select * from {{ features }}

),

scaler as (

    select * from {{ scaler }}

),

centroids as (

    select * from {{ centroids }}

),

scaler_wide as (

    select
        {%- for name in feature_names %}
        max(case when feature_name = '{{ name }}' then mean end) as {{ name }}__mean,
        max(case when feature_name = '{{ name }}' then scale end) as {{ name }}__scale
        {{- "," if not loop.last }}
        {%- endfor %}
    from scaler

),

centroids_wide as (

    select
        segment_id
        {%- for name in feature_names %},
        max(case when feature_name = '{{ name }}' then centroid_z end) as {{ name }}__centroid
        {%- endfor %}
    from centroids
    group by segment_id

),

standardised as (

    select
        features.customer_id
        {%- for name in feature_names %},
        (features.{{ name }} - scaler_wide.{{ name }}__mean)
        / scaler_wide.{{ name }}__scale as {{ name }}_z
        {%- endfor %}
    from features
    cross join scaler_wide

),

distances as (

    select
        standardised.customer_id,
        centroids_wide.segment_id,
        (
            {%- for name in feature_names %}
            {{ "+ " if not loop.first }}(standardised.{{ name }}_z - centroids_wide.{{ name }}__centroid)
            * (standardised.{{ name }}_z - centroids_wide.{{ name }}__centroid)
            {%- endfor %}
        ) as squared_distance
    from standardised
    cross join centroids_wide

),

ranked as (

    select
        customer_id,
        segment_id,
        squared_distance,
        row_number() over (
            partition by customer_id order by squared_distance, segment_id
        ) as distance_rank
    from distances
    qualify distance_rank <= 2

),

final as (

    select
        customer_id,
        max(case when distance_rank = 1 then segment_id end) as segment_id,
        sqrt(max(case when distance_rank = 1 then squared_distance end)) as distance_to_centroid,
        max(case when distance_rank = 2 then segment_id end) as second_segment_id,
        sqrt(max(case when distance_rank = 2 then squared_distance end))
            as distance_to_second_centroid,
        sqrt(max(case when distance_rank = 2 then squared_distance end))
        - sqrt(max(case when distance_rank = 1 then squared_distance end)) as assignment_margin
    from ranked
    group by customer_id

)

select * from final
{% endmacro %}
