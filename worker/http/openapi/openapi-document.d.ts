/**
 * The OpenAPI document as scripts/build-openapi.ts writes it (`dist/`, not in
 * git): a module whose default export is the document's JSON text.
 */
declare module "*/dist/openapi/openapi-document.js" {
  const json: string;
  export default json;
}
