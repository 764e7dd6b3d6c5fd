/**
 * One tree-sitter query per language. Capture names are the contract with extract.ts:
 *   @def.<kind> + @name   a definition (kind: function, class, struct, enum, trait, interface,
 *                          impl, module, namespace, type_alias, constant, macro; `type` = decided
 *                          by @typeval; `decl` = C/C++ declarator, name found in extract.ts)
 *   @owner                Go: the receiver type of a method;  @recvname: its variable
 *   @call + @callee       a call; @receiver when the grammar splits object and name (Java)
 *   @new + @callee        a constructor call (`new C()`)
 *   @base.extends / @base.implements   a base type inside a class (or impl) definition
 *   @import               an import statement, read by imports.ts
 *   @local                a name bound inside a function (parameter, local variable): shadows outer names
 *   @value                JS/TS: the value of a top-level `const` (@def.constant)
 *   @package              Java/Go package name
 *   @bind + @var + @ctor  a local or parameter whose class is known: declared (`p: &Point`,
 *                          `Shape o`, `c *Context`) or constructed (`new C()`, `C::new()`)
 *   @bind + @var + @chain a local bound to an expression (`rt = Builder::new().build()?`): its
 *                          type is what that call chain returns (extract.ts chainOf); in a tuple
 *                          pattern, the element at the variable's position
 *   @ret                  a function's declared return type (Python, Rust); a Rust field's type
 *   @return / @yield + @retval   Python: what a function returns or yields (types of fixtures and
 *                          unannotated functions)
 *   @decorator            Python: a decorator (pytest fixtures)
 *   @fxparam              Python: a plain parameter (no default, no annotation): a pytest fixture
 *                          when its function is a test or a fixture
 *   @selfattr + @attr (+ @attrtype, @attrval)   Python: `self.x = …` in a method: an attribute
 * One query per language runs once per file: every match comes back from native code in one
 * call, and extract.ts nests definitions by byte range instead of walking nodes from JS.
 */
import type { Language } from './languages.js';

const PYTHON = `
(function_definition name: (identifier) @name return_type: (_)? @ret) @def.function
(class_definition name: (identifier) @name) @def.class
(module (expression_statement (assignment left: (identifier) @name) @def.constant))
(call function: (_) @callee) @call
(class_definition superclasses: (argument_list [(identifier) (attribute)] @base.extends))
(import_statement) @import
(import_from_statement) @import
(assignment left: (identifier) @var right: (_) @chain) @bind
(parameters (typed_parameter (identifier) @var type: (type [(identifier) (attribute)] @ctor)) @bind)
(return_statement (_) @retval) @return
(expression_statement (yield (_) @retval) @yield)
(decorator) @decorator
(parameters (identifier) @fxparam)
(assignment left: (attribute object: (identifier) @_self attribute: (identifier) @attr (#eq? @_self "self")) type: (_)? @attrtype right: (_)? @attrval) @selfattr
(parameters (identifier) @local)
(parameters (default_parameter name: (identifier) @local))
(parameters (typed_parameter (identifier) @local))
(parameters (typed_default_parameter name: (identifier) @local))
(lambda_parameters (identifier) @local)
(assignment left: (identifier) @local)
(assignment left: (pattern_list (identifier) @local))
(for_statement left: (identifier) @local)
(for_statement left: (pattern_list (identifier) @local))
(as_pattern alias: (as_pattern_target (identifier) @local))
`;

const JS_COMMON = `
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(method_definition name: (_) @name) @def.function
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function
(function_expression name: (identifier) @name) @def.function
(pair key: [(property_identifier) (string)] @name value: [(arrow_function) (function_expression)]) @def.function
(assignment_expression left: [(identifier) @name (member_expression property: (property_identifier) @name)] right: [(arrow_function) (function_expression)]) @def.function
(call_expression function: (_) @callee) @call
(new_expression constructor: (_) @callee) @new
(import_statement) @import
(export_statement source: (_)) @import
(variable_declarator value: (call_expression function: (identifier) @_req (#eq? @_req "require"))) @import
(variable_declarator name: (identifier) @var value: (new_expression constructor: [(identifier) (member_expression)] @ctor)) @bind
(program (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @def.constant))
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @def.constant)))
(variable_declarator name: (identifier) @local)
(variable_declarator name: (object_pattern (shorthand_property_identifier_pattern) @local))
(variable_declarator name: (object_pattern (pair_pattern value: (identifier) @local)))
(variable_declarator name: (array_pattern (identifier) @local))
(arrow_function parameter: (identifier) @local)
(catch_clause parameter: (identifier) @local)
(for_in_statement left: (identifier) @local)
`;

const JAVASCRIPT = `${JS_COMMON}
(class_declaration name: (identifier) @name) @def.class
(class_heritage [(identifier) (member_expression)] @base.extends)
(formal_parameters (identifier) @local)
(formal_parameters (assignment_pattern left: (identifier) @local))
(formal_parameters (object_pattern (shorthand_property_identifier_pattern) @local))
`;

const TYPESCRIPT = `${JS_COMMON}
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type_alias
(enum_declaration name: (identifier) @name) @def.enum
(internal_module name: (identifier) @name) @def.namespace
(abstract_method_signature name: (_) @name) @def.function
(interface_body (method_signature name: (_) @name) @def.function)
(object_type (method_signature name: (_) @name) @def.function)
(required_parameter pattern: (identifier) @local)
(optional_parameter pattern: (identifier) @local)
(required_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @local))
(extends_clause value: [(identifier) (member_expression)] @base.extends)
(implements_clause [(type_identifier) (nested_type_identifier) (generic_type)] @base.implements)
(extends_type_clause type: [(type_identifier) (nested_type_identifier) (generic_type)] @base.extends)
(required_parameter pattern: (identifier) @var type: (type_annotation (type_identifier) @ctor)) @bind
(optional_parameter pattern: (identifier) @var type: (type_annotation (type_identifier) @ctor)) @bind
(variable_declarator name: (identifier) @var type: (type_annotation (type_identifier) @ctor)) @bind
`;

const RUST = `
(function_item name: (identifier) @name return_type: (_)? @ret) @def.function
(function_signature_item name: (identifier) @name return_type: (_)? @ret) @def.function
(struct_item name: (type_identifier) @name) @def.struct
(union_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(trait_item name: (type_identifier) @name) @def.trait
(impl_item type: (_) @name) @def.impl
(impl_item trait: (_) @base.implements)
(mod_item name: (identifier) @name) @def.module
(type_item name: (type_identifier) @name) @def.type_alias
(const_item name: (identifier) @name type: (_) @ret) @def.constant
(static_item name: (identifier) @name type: (_) @ret) @def.constant
(macro_definition name: (identifier) @name) @def.macro
(associated_type name: (type_identifier) @name) @def.type_alias
(field_declaration_list (field_declaration name: (field_identifier) @name type: (_) @ret) @def.field)
(ordered_field_declaration_list type: (_) @def.tfield)
(call_expression function: (_) @callee) @call
(let_declaration pattern: (identifier) @local)
(parameter pattern: (identifier) @local)
(closure_parameters (identifier) @local)
(use_declaration) @import
(let_declaration pattern: (identifier) @var value: (call_expression function: (scoped_identifier path: (_) @ctor name: (identifier) @_new (#eq? @_new "new")))) @bind
(let_declaration pattern: (identifier) @var value: (struct_expression name: (_) @ctor)) @bind
(let_declaration pattern: (identifier) @var type: [(type_identifier) @ctor (reference_type type: (type_identifier) @ctor)]) @bind
(parameter pattern: (identifier) @var type: [(type_identifier) @ctor (reference_type type: (type_identifier) @ctor)]) @bind
(let_declaration pattern: (identifier) @var value: (_) @chain) @bind
(parameter pattern: (identifier) @var type: [(scoped_type_identifier) @ctor (generic_type type: [(type_identifier) (scoped_type_identifier)] @ctor) (reference_type type: [(scoped_type_identifier) @ctor (generic_type type: [(type_identifier) (scoped_type_identifier)] @ctor)])]) @bind
(let_declaration pattern: (tuple_pattern (identifier) @var) value: (_) @chain) @bind
(let_declaration pattern: (tuple_pattern (mut_pattern (identifier) @var)) value: (_) @chain) @bind
(let_condition pattern: (tuple_struct_pattern type: (identifier) @_k (identifier) @var) value: (_) @chain (#match? @_k "^(Some|Ok)$")) @bind
(parameter pattern: (identifier) @var type: [(abstract_type) @ctor (reference_type type: [(abstract_type) (dynamic_type)] @ctor)]) @bind
(parameter pattern: (self) @var type: (_) @ctor) @bind
(for_expression pattern: (identifier) @var value: (_) @chain) @bind
(match_expression value: (_) @chain body: (match_block (match_arm pattern: (match_pattern (tuple_struct_pattern type: (identifier) @_k (identifier) @var)))) (#match? @_k "^(Some|Ok)$")) @bind
(match_arm pattern: (match_pattern (tuple_struct_pattern (identifier) @local)))
(for_expression pattern: (identifier) @local)
(trait_item bounds: (trait_bounds [(type_identifier) (scoped_type_identifier) (generic_type)] @base.extends))
(type_parameters (type_identifier) @gparam)
(constrained_type_parameter left: (type_identifier) @gparam bounds: (trait_bounds) @gbounds)
(where_predicate left: (type_identifier) @gparam bounds: (trait_bounds) @gbounds)
`;

const GO = `
(function_declaration name: (identifier) @name) @def.function
(method_declaration
  receiver: (parameter_list (parameter_declaration name: (identifier)? @recvname type: [(type_identifier) @owner (pointer_type (type_identifier) @owner) (generic_type type: (type_identifier) @owner) (pointer_type (generic_type type: (type_identifier) @owner))]))
  name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (_) @typeval) @def.type
(type_alias name: (type_identifier) @name) @def.type_alias
(const_spec name: (identifier) @name) @def.constant
(field_declaration_list (field_declaration name: (field_identifier) @name @def.field))
(call_expression function: (_) @callee) @call
(short_var_declaration left: (expression_list (identifier) @local))
(parameter_declaration name: (identifier) @local)
(var_spec name: (identifier) @local)
(range_clause left: (expression_list (identifier) @local))
(import_spec) @import
(package_clause (package_identifier) @package)
(struct_type (field_declaration_list (field_declaration !name type: [(type_identifier) (qualified_type)] @base.extends)))
(struct_type (field_declaration_list (field_declaration !name type: (pointer_type [(type_identifier) (qualified_type)] @base.extends))))
(short_var_declaration left: (expression_list . (identifier) @var) right: (expression_list . (composite_literal type: (type_identifier) @ctor))) @bind
(short_var_declaration left: (expression_list . (identifier) @var) right: (expression_list . (unary_expression operand: (composite_literal type: (type_identifier) @ctor)))) @bind
(parameter_declaration name: (identifier) @var type: [(type_identifier) @ctor (qualified_type) @ctor (pointer_type [(type_identifier) (qualified_type)] @ctor)]) @bind
(var_spec name: (identifier) @var type: [(type_identifier) @ctor (qualified_type) @ctor (pointer_type [(type_identifier) (qualified_type)] @ctor)]) @bind
`;

const JAVA = `
(class_declaration name: (identifier) @name) @def.class
(record_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(annotation_type_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(method_declaration name: (identifier) @name) @def.function
(constructor_declaration name: (identifier) @name) @def.function
(method_invocation object: (_) @receiver name: (identifier) @callee) @call
(method_invocation !object name: (identifier) @callee) @call
(object_creation_expression type: (_) @callee) @new
(superclass (_) @base.extends)
(super_interfaces (type_list (_) @base.implements))
(extends_interfaces (type_list (_) @base.extends))
(import_declaration) @import
(package_declaration (_) @package)
(local_variable_declaration type: (type_identifier) @ctor declarator: (variable_declarator name: (identifier) @var)) @bind
(formal_parameter type: (type_identifier) @ctor name: (identifier) @var) @bind
(field_declaration type: (type_identifier) @ctor declarator: (variable_declarator name: (identifier) @var)) @bind
(local_variable_declaration declarator: (variable_declarator name: (identifier) @local))
(formal_parameter name: (identifier) @local)
(catch_formal_parameter name: (identifier) @local)
(enhanced_for_statement name: (identifier) @local)
(lambda_expression parameters: (identifier) @local)
(inferred_parameters (identifier) @local)
`;

const C_COMMON = `
(function_definition declarator: (_) @decl) @def.decl
(struct_specifier name: (type_identifier) @name body: (_)) @def.struct
(union_specifier name: (type_identifier) @name body: (_)) @def.struct
(enum_specifier name: (type_identifier) @name body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.type_alias
(preproc_def name: (identifier) @name) @def.macro
(preproc_function_def name: (identifier) @name) @def.macro
(call_expression function: (_) @callee) @call
(preproc_include) @import
`;

const CPP = `${C_COMMON}
(class_specifier name: (_) @name body: (_)) @def.class
(namespace_definition name: (_) @name) @def.namespace
(alias_declaration name: (type_identifier) @name) @def.type_alias
(base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @base.extends)
(new_expression type: (_) @callee) @new
(declaration type: [(type_identifier) (qualified_identifier)] @ctor declarator: [(identifier) @var (init_declarator declarator: (identifier) @var)]) @bind
(parameter_declaration type: [(type_identifier) (qualified_identifier)] @ctor declarator: [(identifier) @var (reference_declarator (identifier) @var) (pointer_declarator declarator: (identifier) @var)]) @bind
`;

export const QUERY_SOURCE: Record<Language, string> = {
  python: PYTHON,
  javascript: JAVASCRIPT,
  typescript: TYPESCRIPT,
  tsx: TYPESCRIPT,
  rust: RUST,
  go: GO,
  java: JAVA,
  c: C_COMMON,
  cpp: CPP,
};
