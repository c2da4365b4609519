//! Small builders for the document's hand-made schemas: request bodies whose limits come from
//! the domain's constants, which utoipa's attributes (literals only) cannot name.

use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

/// A string of `min` to `max` characters.
pub fn string(min: usize, max: Option<usize>, description: Option<&str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(max)
        .description(description)
        .into()
}

/// An array of `items`, with at most `max` of them.
pub fn array(
    items: impl Into<RefOr<Schema>>,
    min: Option<usize>,
    max: Option<usize>,
    description: Option<&str>,
) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(items.into())
        .min_items(min)
        .max_items(max)
        .description(description)
        .into()
}

/// An object whose `fields` are all required.
pub fn object<'a>(
    description: Option<&str>,
    fields: impl IntoIterator<Item = (&'a str, RefOr<Schema>)>,
) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(description);
    for (name, schema) in fields {
        object = object.property(name, schema).required(name);
    }
    object.into()
}

/// A reference to `T`'s component.
pub fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}
