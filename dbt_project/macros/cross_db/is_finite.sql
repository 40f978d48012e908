{#- True when a double is neither NaN nor +-infinity: isfinite() is DuckDB-only. -#}
{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'customer_segmentation')(expression)) }}
{%- endmacro %}


{% macro default__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}


{% macro spark__is_finite(expression) -%}
    (not isnan({{ expression }}) and abs({{ expression }}) != double('infinity'))
{%- endmacro %}
