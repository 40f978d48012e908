{#-
    drift_threshold(name): the number in drift var ``name`` (e.g. drift_min_ari), checked, so
    segment_drift records the threshold its tests read; a value that is not a number stops
    the build with one line naming the var.

    Example: {{ drift_threshold('drift_min_ari') }} as min_ari_threshold
-#}
{% macro drift_threshold(name) %}
    {%- set value = var(name) -%}
    {%- if value is not number or value is sameas true or value is sameas false -%}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "': expected a number, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
