{#- Measures in report order: summable ones (totals make sense, e.g. CLV, monetary) first,
    then the others, each group in declared order. The Python fit orders fresh segments the
    same way (FeatureSet.segment_sort_columns). -#}
{% macro report_measures() %}
    {%- set spec = feature_spec() -%}
    {{ return((spec.measures | selectattr('summable') | list) + (spec.measures | rejectattr('summable') | list)) }}
{% endmacro %}
