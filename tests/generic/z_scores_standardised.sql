{#-
    z_scores_standardised: every column ending in the suffix has mean 0 and population standard
    deviation 1 (or is all zeros: a constant feature), within a tolerance.

    Arguments
      column_suffix  default "_z"
      tolerance      default 1e-9

    Returns one row per failing column with its mean and std; fails if no column matches.

    Example
      data_tests:
        - z_scores_standardised
-#}
{% test z_scores_standardised(model, column_suffix='_z', tolerance=1e-9) %}

{%- set columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.name.endswith(column_suffix) -%}
            {%- do columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if columns | length == 0 %}

select 'no column ends with {{ column_suffix }}' as failure

{%- else %}

with

moments as (
    {%- for column in columns %}
    select
        '{{ column }}' as column_name,
        avg({{ adapter.quote(column) }}) as mean,
        stddev_pop({{ adapter.quote(column) }}) as std
    from {{ model }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select *
from moments
where
    abs(mean) > {{ tolerance }}
    or (abs(std - 1) > {{ tolerance }} and std > {{ tolerance }})

{%- endif %}

{% endtest %}
