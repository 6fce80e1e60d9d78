/**
 * The few builders every part of `/openapi.json` is written with, so that all parts
 * spell a schema reference, a JSON body and an error answer alike.
 *
 * @module
 */

/** A JSON Schema (or any part of the document) as plain data. */
export type Schema = Record<string, unknown>;

/** A reference to a schema of `components.schemas`. */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** A response (or request body) of JSON with that schema. */
export const json = (schema: Schema, description: string): Schema => ({
  description,
  content: { "application/json": { schema } },
});

/** An error response: the `Error` schema. */
export const error = (description: string): Schema => json(ref("Error"), description);

/** A required path parameter of type string. */
export const pathParam = (
  name: string,
  description: string,
  schema: Schema = { type: "string" },
) => ({
  name,
  in: "path",
  required: true,
  schema,
  description,
});
