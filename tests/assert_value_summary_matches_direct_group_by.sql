-- Every grouping level of customer_value_summary equals a plain group-by on customer_segments:
-- count, total and mean of every measure, for each single dimension (segment and each
-- categorical feature). Sums are compared with a relative tolerance: DuckDB adds in parallel,
-- so the order of the terms (and the last bits of a sum over millions of rows) differs.
{%- set spec = feature_spec() %}
{%- set measures = report_measures() %}
{%- set dimensions = [{'level': 'segment', 'key': 'segment_id'}] %}
{%- for item in spec.categorical %}
{%- do dimensions.append({'level': item.name, 'key': item.code_column}) %}
{%- endfor %}
with

summary as (

    select * from {{ ref('customer_value_summary') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

{% for dimension in dimensions -%}
direct_{{ dimension.level }} as (

    select
        {%- for item in measures %}
        sum({{ item.name }}) as total_{{ item.name }},
        avg({{ item.name }}) as avg_{{ item.name }},
        {%- endfor %}
        {{ dimension.key }},
        count(*) as count_customers
    from customer_segments
    group by {{ dimension.key }}

),

mismatches_{{ dimension.level }} as (

    select '{{ dimension.level }}' as failed_check
    from direct_{{ dimension.level }}
    left join summary
        on
            summary.grouping_level = '{{ dimension.level }}'
            and direct_{{ dimension.level }}.{{ dimension.key }} = summary.{{ dimension.key }}
    where
        summary.count_customers is distinct from direct_{{ dimension.level }}.count_customers
        {%- for item in measures %}
        {%- for stat in ['total', 'avg'] %}
        {%- set direct = 'direct_' ~ dimension.level ~ '.' ~ stat ~ '_' ~ item.name %}
        or not abs(summary.{{ stat }}_{{ item.name }} - {{ direct }})
        <= 1e-9 * greatest(1, abs({{ direct }}))
        {%- endfor %}
        {%- endfor %}

),

{% endfor -%}

level_totals as (

    select 'level ' || grouping_level as failed_check
    from summary
    group by grouping_level
    having sum(count_customers) != (select count(*) from customer_segments)

)

{% for dimension in dimensions -%}
select failed_check from mismatches_{{ dimension.level }}
union all
{% endfor -%}
select failed_check from level_totals
