import { Module } from '@nestjs/common';
import { ApiDocsController } from '../http/api-docs.controller.js';

/** The OpenAPI document of the HTTP API (`/openapi.json`) and its reference page (`/docs`). */
@Module({ controllers: [ApiDocsController] })
export class ApiDocsModule {}
