{#-
    customer_input(input_path=none, input_relation=none, var_prefix='input', wanted=none, seed=none)

    Where raw input rows come from, and the fatal checks on them. Called with the fit input
    (vars input_path / input_relation) and with new customers to score (var score_input_path),
    for customer rows and for transaction rows alike.
      wanted   list of {key, shown, required}: the source columns to find (key lowercased);
               default the feature set's input columns (macro input_columns)
      seed     the demo seed read when neither path nor relation is given
    Returns a dict:
      from_sql     the relation or table function to select from
      label        how error messages and rejected rows name the input (file path, table, or seed)
      columns      key -> quoted source column, for every wanted column found
      row_number   SQL for a stable 1-based data-row number in source order

    Choice of input (first one set wins):
      input_path      a CSV or Parquet file (.parquet / .pq are read as Parquet)
      input_relation  an existing table or view, "schema.table" or "table"
      otherwise       the demo seed, through ref() so `dbt build` stays one command

    Fatal problems stop the build here, before any segment table is written, with a message
    that names the input and the column: file missing, empty file, header only, required column
    missing. Column names match case-insensitively; extra columns are ignored.
-#}
{% macro customer_input(input_path=none, input_relation=none, var_prefix='input', wanted=none, seed=none) %}
    {%- set wanted = wanted if wanted is not none else input_columns() -%}
    {%- set seed = seed or demo_seed() -%}
    {%- set wanted_keys = wanted | map(attribute='key') | list -%}

    {%- set spark = target.type == 'spark' -%}
    {%- if input_path and spark -%}
        {{ exceptions.raise_compiler_error(var_prefix ~ "_path '" ~ input_path ~ "': files are read with DuckDB; on Spark load the file into a table and set var " ~ var_prefix ~ "_relation") }}
    {%- endif -%}
    {%- if input_path -%}
        {%- set path_sql = "'" ~ (input_path | replace("'", "''")) ~ "'" -%}
        {%- set label = var_prefix ~ '_path ' ~ path_sql -%}
        {%- set lowered = input_path | lower -%}
        {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
            {%- set from_sql = 'read_parquet(' ~ path_sql ~ ', file_row_number = true)' -%}
            {%- set row_number = 'file_row_number + 1' -%}
        {%- else -%}
            {%- set from_sql = 'read_csv(' ~ path_sql ~ ', all_varchar = true, header = true)' -%}
            {%- set row_number = 'row_number() over ()' -%}
        {%- endif -%}
    {%- elif input_relation -%}
        {%- set from_sql = input_relation -%}
        {%- set label = var_prefix ~ "_relation '" ~ input_relation ~ "'" -%}
        {%- set row_number = scan_row_number() -%}
    {%- else -%}
        {%- set from_sql = ref(seed) | string -%}
        {%- set label = "seed '" ~ seed ~ "'" -%}
        {%- set row_number = scan_row_number() -%}
    {%- endif -%}

    {%- set columns = {} -%}
    {%- if execute -%}
        {%- if input_path -%}
            {%- set found = run_query('select count(*) from glob(' ~ path_sql ~ ')').columns[0].values()[0] -%}
            {%- if found == 0 -%}
                {{ exceptions.raise_compiler_error(label ~ ': file not found (relative paths start at the repository root)') }}
            {%- endif -%}
            {%- set size = run_query('select size from read_blob(' ~ path_sql ~ ')').columns[0].values()[0] -%}
            {%- if size == 0 -%}
                {{ exceptions.raise_compiler_error(label ~ ': file is empty (0 bytes)') }}
            {%- endif -%}
        {%- elif input_relation and spark -%}
            {%- set parts = input_relation.split('.') -%}
            {%- set found = adapter.get_relation(
                database=none,
                schema=parts[-2] if parts | length > 1 else target.schema,
                identifier=parts[-1]
            ) -%}
            {%- if found is none -%}
                {{ exceptions.raise_compiler_error(label ~ ': table or view not found') }}
            {%- endif -%}
        {%- elif input_relation -%}
            {%- set parts = input_relation.split('.') -%}
            {%- set exists = run_query(
                "select count(*) from information_schema.tables where lower(table_name) = lower('"
                ~ parts[-1] ~ "')" ~ ((" and lower(table_schema) = lower('" ~ parts[-2] ~ "')") if parts | length > 1 else "")
            ).columns[0].values()[0] -%}
            {%- if exists == 0 -%}
                {{ exceptions.raise_compiler_error(label ~ ': table or view not found') }}
            {%- endif -%}
        {%- endif -%}

        {%- if spark -%}
            {%- set relation = found if input_relation else ref(seed) -%}
            {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- else -%}
            {%- set names = run_query('describe select * from ' ~ from_sql).columns[0].values() -%}
        {%- endif -%}
        {%- for name in names -%}
            {%- set key = name | lower | trim -%}
            {%- if key in wanted_keys -%}
                {%- do columns.update({key: adapter.quote(name)}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for column in wanted -%}
            {%- if column.required and column.key not in columns -%}
                {{ exceptions.raise_compiler_error(
                    label ~ ": required column '" ~ column.shown ~ "' is missing (columns found: "
                    ~ (names | join(', ')) ~ ')'
                ) }}
            {%- endif -%}
        {%- endfor -%}
        {%- set row_count = run_query('select count(*) from ' ~ from_sql).columns[0].values()[0] -%}
        {%- if row_count == 0 -%}
            {{ exceptions.raise_compiler_error(label ~ ': no data rows (header only)') }}
        {%- endif -%}
    {%- endif -%}

    {{ return({'from_sql': from_sql, 'label': label, 'columns': columns, 'row_number': row_number}) }}
{% endmacro %}


{#- The source columns a customer input needs for the feature set: customer_id (optional), each
    measure's column and each categorical's column, in that order, without repeats. -#}
{% macro input_columns() %}
    {%- set spec = feature_spec() -%}
    {%- set wanted = [{'key': 'customer_id', 'shown': 'customer_id', 'required': false}] -%}
    {%- set seen = ['customer_id'] -%}
    {%- for item in spec.measures + spec.categorical -%}
        {%- if item.source_key not in seen -%}
            {%- do seen.append(item.source_key) -%}
            {%- do wanted.append({'key': item.source_key, 'shown': item.column, 'required': true}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(wanted) }}
{% endmacro %}


{#- The demo seed for the feature set's input kind. -#}
{% macro demo_seed() %}
    {{ return('demo_transactions' if feature_spec().input_kind == 'transactions' else 'demo_customers') }}
{% endmacro %}
