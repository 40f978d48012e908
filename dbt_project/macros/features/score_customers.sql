{#-
    score_customers(features, scaler, centroids, definitions)

    Assigns customers to the stored segments in plain SQL, with no Python and no refit:
    standardise every feature with the stored scaler, then take the nearest and second-nearest
    stored centroid (Euclidean, z units; ties go to the lower segment id, as in Python), and
    the features that carry the margin between them.

    Arguments
      features     relation with customer_id and one column per scaler feature (original units)
      scaler       ml_feature_scaler: feature_name, mean, scale
      centroids    ml_kmeans_fit: segment_id, feature_name, centroid_z
      definitions  int_feature_definitions: feature_name, source_feature (the mart name a fit
                   column's contribution is summed into; a column it lacks keeps its own name)

    Returns one row per customer: customer_id, segment_id, distance_to_centroid,
    second_segment_id, distance_to_second_centroid, assignment_margin, and top_feature_<r>,
    top_feature_<r>_contribution for r = 1..top_feature_count(): the source features with the
    largest terms (z - c2)^2 - (z - c1)^2 of the squared margin (c1 the own centroid, c2 the
    runner-up's), summed per source feature in fit order, largest first, equal terms in feature
    order (customer_segmentation.explain does the same in Python). Null when k = 1.

    The feature list is read from the scaler table when the model runs; the numbers are joined
    from the tables, never baked into the SQL. Cost is O(rows × k × features), one pass.
-#}
{% macro score_customers(features, scaler, centroids, definitions) %}
{%- set feature_names = [] -%}
{%- for row in lookup_rows(scaler, 'feature_position') -%}
    {%- do feature_names.append(row.feature_name) -%}
{%- endfor -%}
{%- set source_of = {} -%}
{%- for row in lookup_rows(definitions, 'feature_position') -%}
    {%- do source_of.update({row.feature_name: row.source_feature}) -%}
{%- endfor -%}
{#- groups: the source features in the order of their first fit column, with their columns -#}
{%- set groups = [] -%}
{%- set group_of = {} -%}
{%- for name in feature_names -%}
    {%- set source = source_of.get(name) or name -%}
    {%- if source not in group_of -%}
        {%- do group_of.update({source: {'name': source, 'position': groups | length + 1, 'columns': []}}) -%}
        {%- do groups.append(group_of[source]) -%}
    {%- endif -%}
    {%- do group_of[source]['columns'].append(name) -%}
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

assigned as (

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

),

margin_terms as (

    select
        assigned.customer_id
        {%- for group in groups %},
        (
            {%- for name in group.columns %}
            {{ "+ " if not loop.first }}(
                (standardised.{{ name }}_z - runner_up.{{ name }}__centroid)
                * (standardised.{{ name }}_z - runner_up.{{ name }}__centroid)
                - (standardised.{{ name }}_z - own.{{ name }}__centroid)
                * (standardised.{{ name }}_z - own.{{ name }}__centroid)
            )
            {%- endfor %}
        ) as {{ group.name }}__contribution
        {%- endfor %}
    from assigned
    inner join standardised
        on assigned.customer_id = standardised.customer_id
    inner join centroids_wide as own
        on assigned.segment_id = own.segment_id
    inner join centroids_wide as runner_up
        on assigned.second_segment_id = runner_up.segment_id

),

{#- A feature's rank: 1 + the features ahead of it (a larger contribution, or an equal one
    from an earlier feature): row by row, no window, the same rule as a stable sort. -#}
feature_ranks as (

    select
        margin_terms.*
        {%- for group in groups %},
        1
        {%- for other in groups if other.position != group.position %}
        + case
            when margin_terms.{{ other.name }}__contribution
                {{ '>=' if other.position < group.position else '>' }}
                margin_terms.{{ group.name }}__contribution
                then 1
            else 0
        end
        {%- endfor %} as {{ group.name }}__rank
        {%- endfor %}
    from margin_terms

),

explained as (

    select
        customer_id
        {%- for rank in range(1, top_feature_count() + 1) %},
        case
            {%- for group in groups %}
            when {{ group.name }}__rank = {{ rank }} then {{ sql_text(group.name) }}
            {%- endfor %}
        end as top_feature_{{ rank }},
        case
            {%- for group in groups %}
            when {{ group.name }}__rank = {{ rank }} then {{ group.name }}__contribution
            {%- endfor %}
        end as top_feature_{{ rank }}_contribution
        {%- endfor %}
    from feature_ranks

),

final as (

    select
        assigned.customer_id,
        assigned.segment_id,
        assigned.distance_to_centroid,
        assigned.second_segment_id,
        assigned.distance_to_second_centroid,
        assigned.assignment_margin
        {%- for rank in range(1, top_feature_count() + 1) %},
        explained.top_feature_{{ rank }},
        explained.top_feature_{{ rank }}_contribution
        {%- endfor %}
    from assigned
    left join explained
        on assigned.customer_id = explained.customer_id

)

select * from final
{% endmacro %}
