{#- A date plus a whole number of days, still a date: date + n (DuckDB), date_add (Spark). -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'customer_segmentation')(date_expression, days)) }}
{%- endmacro %}


{% macro default__add_days(date_expression, days) -%}
    {{ date_expression }} + {{ days }}
{%- endmacro %}


{% macro spark__add_days(date_expression, days) -%}
    date_add({{ date_expression }}, {{ days }})
{%- endmacro %}
