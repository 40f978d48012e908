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

    The feature list and the segment ids are read from the stored tables when the model runs;
    the numbers are joined from the tables, never baked into the SQL. One row-wise pass: the
    centroids are pivoted into one row (a column per segment and feature), cross joined, and
    every customer's k squared distances are columns, so the nearest two come from least() and
    case expressions with no window, group by or join on the customers. O(rows × k × features).
-#}
{% macro score_customers(features, scaler, centroids, definitions) %}
{%- set feature_names = [] -%}
{%- for row in lookup_rows(scaler, 'feature_position') -%}
    {%- do feature_names.append(row.feature_name) -%}
{%- endfor -%}
{%- set segment_ids = [] -%}
{%- for row in lookup_rows(centroids, 'segment_id') -%}
    {%- if (row.segment_id | int) not in segment_ids -%}
        {%- do segment_ids.append(row.segment_id | int) -%}
    {%- endif -%}
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

{#- one row: c<segment id>__<feature>, every stored centroid coordinate -#}
centroids_wide as (

    select
        {%- for segment in segment_ids %}
        {%- set outer = loop %}
        {%- for name in feature_names %}
        max(
            case when segment_id = {{ segment }} and feature_name = '{{ name }}' then centroid_z end
        ) as c{{ segment }}__{{ name }}
        {{- "," if not (outer.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from centroids

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
        standardised.*,
        centroids_wide.*
        {%- for segment in segment_ids %},
        (
            {%- for name in feature_names %}
            {{ "+ " if not loop.first }}(standardised.{{ name }}_z - centroids_wide.c{{ segment }}__{{ name }})
            * (standardised.{{ name }}_z - centroids_wide.c{{ segment }}__{{ name }})
            {%- endfor %}
        ) as squared_distance_{{ segment }}
        {%- endfor %}
    from standardised
    cross join centroids_wide

),

{#- nearest: the lowest squared distance, equal ones to the lower segment id (case order) -#}
nearest as (

    select
        *,
        case
            {%- for segment in segment_ids %}
            when squared_distance_{{ segment }} = least(
                {%- for other in segment_ids %}squared_distance_{{ other }}{{ ", " if not loop.last }}{% endfor -%}
            ) then {{ segment }}
            {%- endfor %}
        end as segment_id
    from distances

),

{#- the runner-up: the same rule over the other segments (least() skips the nulls) -#}
runner_up as (

    select
        *,
        least(
            {%- for segment in segment_ids %}
            case when segment_id != {{ segment }} then squared_distance_{{ segment }} end
            {{- "," if not loop.last }}
            {%- endfor %}
        ) as second_squared_distance
    from nearest

),

assigned as (

    select
        *,
        case segment_id
            {%- for segment in segment_ids %}
            when {{ segment }} then squared_distance_{{ segment }}
            {%- endfor %}
        end as nearest_squared_distance,
        case
            {%- for segment in segment_ids %}
            when
                segment_id != {{ segment }}
                and squared_distance_{{ segment }} = second_squared_distance
                then {{ segment }}
            {%- endfor %}
        end as second_segment_id
    from runner_up

),

{#- each fit column's coordinate of the own and the runner-up centroid -#}
centroid_pairs as (

    select
        *
        {%- for name in feature_names %},
        case segment_id
            {%- for segment in segment_ids %}
            when {{ segment }} then c{{ segment }}__{{ name }}
            {%- endfor %}
        end as {{ name }}__own,
        case second_segment_id
            {%- for segment in segment_ids %}
            when {{ segment }} then c{{ segment }}__{{ name }}
            {%- endfor %}
        end as {{ name }}__runner_up
        {%- endfor %}
    from assigned

),

margin_terms as (

    select
        *
        {%- for group in groups %},
        (
            {%- for name in group.columns %}
            {{ "+ " if not loop.first }}(
                ({{ name }}_z - {{ name }}__runner_up) * ({{ name }}_z - {{ name }}__runner_up)
                - ({{ name }}_z - {{ name }}__own) * ({{ name }}_z - {{ name }}__own)
            )
            {%- endfor %}
        ) as {{ group.name }}__contribution
        {%- endfor %}
    from centroid_pairs

),

{#- A feature's rank: 1 + the features ahead of it (a larger contribution, or an equal one
    from an earlier feature): row by row, no window, the same rule as a stable sort. -#}
feature_ranks as (

    select
        *
        {%- for group in groups %},
        1
        {%- for other in groups if other.position != group.position %}
        + case
            when {{ other.name }}__contribution
                {{ '>=' if other.position < group.position else '>' }}
                {{ group.name }}__contribution
                then 1
            else 0
        end
        {%- endfor %} as {{ group.name }}__rank
        {%- endfor %}
    from margin_terms

),

final as (

    select
        customer_id,
        segment_id,
        sqrt(nearest_squared_distance) as distance_to_centroid,
        second_segment_id,
        sqrt(second_squared_distance) as distance_to_second_centroid,
        sqrt(second_squared_distance) - sqrt(nearest_squared_distance) as assignment_margin
        {%- for rank in range(1, top_feature_count() + 1) %},
        case
            when second_segment_id is null then {{ sql_text(none) }}
            {%- for group in groups %}
            when {{ group.name }}__rank = {{ rank }} then {{ sql_text(group.name) }}
            {%- endfor %}
        end as top_feature_{{ rank }},
        case
            when second_segment_id is null then null
            {%- for group in groups %}
            when {{ group.name }}__rank = {{ rank }} then {{ group.name }}__contribution
            {%- endfor %}
        end as top_feature_{{ rank }}_contribution
        {%- endfor %}
    from feature_ranks

)

select * from final
{% endmacro %}
