{#- An existing table or view named by a var, as a quoted relation: "table", "schema.table" or
    "database.schema.table", each part a plain identifier (letters, digits, _). Anything else
    stops the build: a var never reaches SQL unquoted. -#}
{% macro quoted_relation(name, var_name) %}
    {%- set parts = (name | string).split('.') -%}
    {%- for part in parts -%}
        {%- if parts | length > 3 or not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', part) -%}
            {{ exceptions.raise_compiler_error("var '" ~ var_name ~ "': expected a table name like raw.customers (letters, digits and _ separated by dots), got '" ~ name ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set quoted = [] -%}
    {%- for part in parts -%}
        {%- do quoted.append(adapter.quote(part)) -%}
    {%- endfor -%}
    {{ return(quoted | join('.')) }}
{% endmacro %}
