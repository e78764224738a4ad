export { Orgs, OrgsProps } from "./orgs";
export { OrgsStack, OrgsStackProps } from "./stack";
export { ROUTE_TABLE } from "./routes";
