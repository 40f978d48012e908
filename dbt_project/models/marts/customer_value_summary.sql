{#- The measures (total, mean, median) by segment, by each categorical feature (the case
    study: region, channel) and by their pairs, in one tidy table (grouping sets: overall,
    each categorical, each pair of categoricals, the segment with each categorical, the
    segment). grouping_level names the combination ('overall', 'segment', 'region',
    'segment_region', 'region_channel', ...); columns not in it are null. Columns follow the
    feature set (macros feature_spec, report_measures). -#}
{%- set categoricals = feature_spec().categorical -%}
{%- set measures = report_measures() %}

with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

grouped as (

    select
        {%- for item in categoricals %}
        {{ item.code_column }},
        {{ item.name }}_name,
        grouping({{ item.code_column }}) as is_all_{{ item.name }},
        {%- endfor %}
        segment_id,
        segment_name,
        grouping(segment_id) as is_all_segment,
        {%- for item in measures %}
        {{ exact_sum(item.name) }} as total_{{ item.name }},
        {{ exact_avg(item.name) }} as avg_{{ item.name }},
        median({{ item.name }}) as median_{{ item.name }},
        {%- endfor %}
        count(*) as count_customers
    from customer_segments
    group by grouping sets (
        (),
        {%- for item in categoricals %}
        ({{ item.code_column }}, {{ item.name }}_name),
        {%- endfor %}
        {%- for first in categoricals %}
        {%- for second in categoricals[loop.index:] %}
        (
            {{ first.code_column }}, {{ first.name }}_name,
            {{ second.code_column }}, {{ second.name }}_name
        ),
        {%- endfor %}
        {%- endfor %}
        {%- for item in categoricals %}
        (segment_id, segment_name, {{ item.code_column }}, {{ item.name }}_name),
        {%- endfor %}
        (segment_id, segment_name)
    )

),

overall as (

    select
        {%- for item in measures if item.summable %}
        total_{{ item.name }} as all_{{ item.name }},
        {%- endfor %}
        count_customers as all_customers
    from grouped
    where
        {%- for item in categoricals %}
        is_all_{{ item.name }} = 1 and
        {%- endfor %}
        is_all_segment = 1

),

final as (

    select
        coalesce(
            nullif(
                concat_ws(
                    '_',
                    case when grouped.is_all_segment = 0 then 'segment' end
                    {%- for item in categoricals %},
                    case when grouped.is_all_{{ item.name }} = 0 then '{{ item.name }}' end
                    {%- endfor %}
                ),
                ''
            ),
            'overall'
        ) as grouping_level,
        {%- for item in categoricals %}
        grouped.{{ item.code_column }},
        grouped.{{ item.name }}_name,
        {%- endfor %}
        grouped.segment_id,
        grouped.segment_name,
        {%- for item in measures %}
        grouped.total_{{ item.name }},
        {%- if item.summable %}
        grouped.total_{{ item.name }} / nullif(overall.all_{{ item.name }}, 0)
            as share_of_{{ item.name }},
        {%- endif %}
        grouped.avg_{{ item.name }},
        grouped.median_{{ item.name }},
        {%- endfor %}
        grouped.count_customers,
        grouped.count_customers / overall.all_customers as share_of_customers
    from grouped
    cross join overall

)

select * from final
