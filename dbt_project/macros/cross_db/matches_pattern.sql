{#- True when the whole of a text matches a regular expression. -#}
{% macro matches_pattern(expression, pattern) -%}
    {{ return(adapter.dispatch('matches_pattern', 'customer_segmentation')(expression, pattern)) }}
{%- endmacro %}


{% macro default__matches_pattern(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}


{% macro spark__matches_pattern(expression, pattern) -%}
    ({{ expression }} rlike '^{{ pattern }}$')
{%- endmacro %}
