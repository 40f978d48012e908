{#- True when the feature set reports every one of these measures and categorical features
    (the case-study analyses need CLV, minutes, region and channel). Works at parse time, so
    a model can use it in config(enabled=...). -#}
{% macro feature_set_has(names) %}
    {%- set spec = feature_spec() -%}
    {%- set present = (spec.measures | map(attribute='name') | list) + (spec.categorical | map(attribute='name') | list) -%}
    {%- for name in names -%}
        {%- if name not in present -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{% endmacro %}
